//! `docker.engine`: is there an engine to ask, and which one.

use crate::catalogue::{Rule, Severity};
use crate::probe::docker::{DockerObservations, EngineProblem};
use crate::report::CheckResult;

pub static ENGINE: Rule = Rule {
    id: "docker.engine",
    severity: Severity::Error,
    title: "Docker engine reachable",
    summary: "Connects to the Docker Engine API (DOCKER_HOST, else /var/run/docker.sock), \
              negotiates the API version and reads the engine and API versions.",
    why: "Every other docker check reads the engine. A socket that exists but refuses this user \
          (`permission denied`, the user is not in the `docker` group), a missing socket (no \
          engine running, or DOCKER_HOST points at the wrong place) and an engine that does not \
          answer are different problems with different fixes.",
    fix: "Permission denied: add the user to the `docker` group (`sudo usermod -aG docker $USER`, \
          then log in again) or run wsdoctor with access to the socket. No socket / refused: \
          start the engine (`sudo systemctl start docker`) or set DOCKER_HOST to where it \
          listens (`unix:///run/user/1000/docker.sock` for rootless). Timeout: check the host \
          and any firewall, or raise --timeout.",
};

/// Judges the connection attempt.
pub fn judge(obs: &DockerObservations) -> CheckResult {
    let endpoint = obs.endpoint.as_str();
    let facts = match &obs.engine {
        Ok(f) => f,
        Err(problem) => return judge_problem(endpoint, problem),
    };
    ENGINE
        .pass(format!(
            "Docker {} (API {}, minimum {}) on {}/{} at {endpoint}",
            facts.version, facts.api_version, facts.min_api_version, facts.os, facts.arch
        ))
        .subject(endpoint)
        .evidence("endpoint", endpoint)
        .evidence("version", facts.version.as_str())
        .evidence("api_version", facts.api_version.as_str())
        .evidence("min_api_version", facts.min_api_version.as_str())
        .evidence("os", facts.os.as_str())
        .evidence("arch", facts.arch.as_str())
}

fn judge_problem(endpoint: &str, problem: &EngineProblem) -> CheckResult {
    let (kind, message, hint) = match problem {
        EngineProblem::PermissionDenied { message } => (
            "permission_denied",
            format!(
                "permission denied on the Docker socket ({message}): the engine runs, but this user may not use it"
            ),
            "add the user to the docker group: `sudo usermod -aG docker $USER` and log in again \
             (or run wsdoctor as a user with access to the socket)"
                .to_string(),
        ),
        EngineProblem::NoSocket { message } => (
            "no_socket",
            format!("no Docker engine: the socket does not exist ({message})"),
            "start the engine (`sudo systemctl start docker`), or point DOCKER_HOST at the \
             socket it uses (rootless: unix:///run/user/$UID/docker.sock)"
                .to_string(),
        ),
        EngineProblem::Refused { message } => (
            "refused",
            format!("no Docker engine listening: connection refused ({message})"),
            "start the engine (`sudo systemctl start docker`) or fix DOCKER_HOST".to_string(),
        ),
        EngineProblem::Timeout { after } => (
            "timeout",
            format!(
                "the Docker engine at {endpoint} did not answer within {}",
                humantime::format_duration(*after)
            ),
            "check that DOCKER_HOST names a running engine and nothing blocks it; a busy engine \
             may need a longer --timeout"
                .to_string(),
        ),
        EngineProblem::Unsupported { reason } => (
            "unsupported",
            format!("cannot talk to the engine at {endpoint}: {reason}"),
            "use a unix:// socket or a plain tcp:// endpoint (e.g. through `ssh -L`)".to_string(),
        ),
        EngineProblem::Api { message } => (
            "api_error",
            format!("{endpoint} answered, but not as a Docker engine: {message}"),
            "check that DOCKER_HOST points at the Docker Engine API".to_string(),
        ),
    };
    ENGINE
        .fire(message)
        .subject(endpoint)
        .hint(hint)
        .evidence("endpoint", endpoint)
        .evidence("problem", kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::fixtures;
    use crate::probe::docker::Selection;
    use crate::report::Status;

    #[test]
    fn recorded_engine_passes_with_versions() {
        let r = judge(&fixtures::observations(&[]));
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.evidence["api_version"], "1.41");
        assert_eq!(r.evidence["version"], "20.10.24+dfsg1");
    }

    #[test]
    fn each_problem_has_its_own_kind_and_fix() {
        let cases = [
            (
                EngineProblem::PermissionDenied {
                    message: "Permission denied (os error 13)".into(),
                },
                "permission_denied",
                "docker group",
            ),
            (
                EngineProblem::NoSocket {
                    message: "No such file or directory (os error 2)".into(),
                },
                "no_socket",
                "systemctl start docker",
            ),
            (
                EngineProblem::Refused {
                    message: "Connection refused (os error 111)".into(),
                },
                "refused",
                "systemctl start docker",
            ),
            (
                EngineProblem::Timeout {
                    after: std::time::Duration::from_millis(500),
                },
                "timeout",
                "--timeout",
            ),
        ];
        for (problem, kind, fix) in cases {
            let obs = DockerObservations::unreachable(
                "unix:///var/run/docker.sock".into(),
                problem,
                Selection::Project("p".into()),
            );
            let r = judge(&obs);
            assert_eq!(r.status, Status::Fail);
            assert_eq!(r.evidence["problem"], kind);
            assert!(
                r.hint.as_deref().unwrap_or("").contains(fix),
                "{kind}: {:?}",
                r.hint
            );
        }
    }
}
