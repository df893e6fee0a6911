//! Live engineio probe. OWNER: the engineio helper.
