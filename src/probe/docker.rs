//! Live docker probe. OWNER: the docker helper.
