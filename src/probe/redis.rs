//! Live redis probe. OWNER: the redis helper.
