//! The ML core (to be written).
