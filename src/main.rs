use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One crypto provider for every TLS client (redis, reqwest, tungstenite): with none
    // installed rustls panics if a second provider ever enters the dependency graph.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match wsdoctor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(wsdoctor::commands::run(cli))
}
