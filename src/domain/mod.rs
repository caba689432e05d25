//! Domain types shared by every layer: contract names, compatibility modes and
//! policies, write modes, semantic-version bumps and rule directions.
//!
//! Constructors validate; once a value of these types exists it is trusted. This
//! module imports nothing else from the crate.

mod mode;
mod name;
mod selector;
mod write_mode;

pub use mode::{Bump, Direction, Mode, Policy, UnknownName};
pub use name::{ContractName, InvalidName};
pub use selector::{InvalidSelector, VersionSelector};
pub use write_mode::WriteMode;
