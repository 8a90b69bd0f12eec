//! The agents section's session, commands and client configuration, as data: the page shows
//! them, and the CLI's tests include this file and check every command against the real
//! argument parser and every tool call against the MCP server's tools
//! (`crates/cli/src/main.rs`, `the_article_s_agent_session_parses`). It uses nothing outside
//! this file.

/// One step of an agent's session: what it asks, the MCP tool call (name and JSON arguments),
/// and the same step on the command line.
pub struct Step {
    pub what: &'static str,
    pub tool: &'static str,
    pub arguments: &'static str,
    pub command: &'static str,
}

/// An agent meets a dataset it has not seen: RetinaMNIST (ordinal regression, five grades of
/// diabetic retinopathy, RGB fundus photographs).
pub const SESSION: [Step; 4] = [
    Step {
        what: "Identify the file by its MD5 and count the images per split and per grade.",
        tool: "inspect_data",
        arguments: r#"{"data": "retinamnist"}"#,
        command: "breastmnist --json inspect --dataset retinamnist",
    },
    Step {
        what: "Train the reader recipe; progress arrives at most once a second, the result is the metrics and links to every file.",
        tool: "train",
        arguments: r#"{"data": "retinamnist", "preset": "reader", "seed": 0, "out": "retina-c16"}"#,
        command: "breastmnist --json train --dataset retinamnist --preset reader --seed 0 --out retina-c16",
    },
    Step {
        what: "Read every validation image's five probabilities and find the most confident mistakes.",
        tool: "predict",
        arguments: r#"{"checkpoint": "retina-c16/best.ckpt", "data": "retinamnist", "split": "val", "limit": 120}"#,
        command: "breastmnist --json predict --checkpoint retina-c16/best.ckpt --dataset retinamnist --split val --limit 120",
    },
    Step {
        what: "Explain one mistake: Grad-CAM of the predicted grade, returned as an image.",
        tool: "explain",
        arguments: r#"{"checkpoint": "retina-c16/best.ckpt", "data": "retinamnist", "split": "val", "index": 7}"#,
        command: "breastmnist --json explain --checkpoint retina-c16/best.ckpt --dataset retinamnist --split val --index 7 --out mistake.png",
    },
];

/// The server's command and a client's configuration of it (Claude Desktop's shape, which most
/// MCP clients take).
pub const SERVE: &str = "breastmnist mcp --root ~/runs";
pub const CLIENT_CONFIG: &str = r#"{
  "mcpServers": {
    "breastmnist": {
      "command": "breastmnist",
      "args": ["mcp", "--root", "/home/me/runs"]
    }
  }
}"#;
