//! `breastmnist mcp --root DIR`: a Model Context Protocol server over stdio (rmcp, the official
//! Rust SDK) whose tools are the operations layer's functions.
//!
//! Invariant: no command logic here. A tool reads its arguments (malformed ones are protocol
//! errors), resolves every path inside the root ([`root::Root`], links included), calls one
//! `breastmnist_ops` function on a blocking thread and returns its typed result as structured
//! content; an operation's failure is a tool error carrying its kind. One training runs at a
//! time; cancelling a call stops it between steps and keeps its files. `crates/cli/tests/mcp.rs`
//! drives it with rmcp's client over a child process; `root.rs` tests the path rules.

pub mod root;
pub mod server;
pub mod tools;

pub use root::Root;
pub use server::Server;

/// Serves MCP on stdin/stdout until the client closes the connection.
pub fn serve(root: &std::path::Path) -> Result<(), breastmnist_ops::Error> {
    use rmcp::ServiceExt;
    let root = Root::new(root)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| breastmnist_ops::Error::CheckFailed(format!("cannot start the server's runtime: {e}")))?;
    runtime.block_on(async move {
        let service = Server::new(root)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| breastmnist_ops::Error::Usage(format!("the MCP handshake failed: {e}")))?;
        service.waiting().await.map_err(|e| breastmnist_ops::Error::CheckFailed(format!("the MCP server stopped: {e}")))?;
        Ok(())
    })
}
