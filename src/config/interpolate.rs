//! `${VAR}` interpolation with compose semantics, shared by .env values and compose files.
//! OWNER: helper A (dotenv + interpolation). Signatures are the contract with the compose loader.

/// The result of interpolating one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpolated {
    pub value: String,
    /// Variables referenced with no value and no default (`${VAR}`, `$VAR`): compose
    /// substitutes an empty string and warns.
    pub unset: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolationError {
    /// `${VAR:?message}` / `${VAR?message}` with VAR unset (or empty, for `:?`).
    Required { variable: String, message: String },
    /// A malformed template, e.g. `${VAR` or `${}`; `offset` is a byte offset into the input.
    Invalid { offset: usize, message: String },
}

/// Interpolates `template`; `lookup` gives a variable's value (None when unset).
pub fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, InterpolationError> {
    let _ = lookup;
    todo!("helper A: interpolate {template}")
}
