//! The `crowdsift` command line as a library: its arguments ([`args`]) and how they become the
//! parameters of each pipeline stage ([`jobs`]). The binary (main.rs) runs and prints; the Python
//! package parses its keyword arguments with the same [`args::Cli`], so a stage run from Python
//! has exactly the command line's defaults.

pub mod args;
pub mod jobs;

pub use args::{Cli, Command};

/// Parses a command line (`argv[0]` is the program name).
pub fn parse<I, T>(argv: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    Cli::try_parse_from(argv).map(|c| c.command)
}
