//! Real servers for tests, started on free loopback ports in temp dirs and
//! stopped when dropped: the backends a scaled-out Photodesk runs on. No
//! Photodesk crate is a dependency, so any crate's tests can use these.

mod postgres;
mod seaweedfs;

pub use postgres::Postgres;
pub use seaweedfs::SeaweedFs;

/// A free TCP port on loopback (free when asked; servers bind it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
