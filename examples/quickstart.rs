//! Placeholder: the runnable quickstart (axum app + embedded WorkOS emulator)
//! arrives with the axum integration. Until then this prints what works today.

fn main() {
    println!(
        "authkit-axum {}: the User Management client is ready (see README.md).\n\
         The quickstart app (embedded emulator, login page, protected routes) lands with the axum integration.",
        env!("CARGO_PKG_VERSION")
    );
}
