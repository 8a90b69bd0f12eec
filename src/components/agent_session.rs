//! "Let an agent drive it": an agent's session as tool calls beside the same commands, and the
//! MCP client configuration. Static: the steps and snippets are `view::agents`' data, which the
//! CLI's tests parse.

use leptos::prelude::*;

use crate::view::agents::{CLIENT_CONFIG, SERVE, SESSION};

#[component]
pub fn AgentSession() -> impl IntoView {
    let steps = SESSION
        .iter()
        .map(|s| {
            view! {
                <li>
                    {s.what}
                    <div class="agent-call">
                        <span class="muted">"tool "</span>
                        <code>{format!("{} {}", s.tool, s.arguments)}</code>
                    </div>
                    <div class="agent-call">
                        <span class="muted">"shell "</span>
                        <code>{s.command}</code>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="card agent-session" data-testid="agent-session">
            <ol class="agent-steps">{steps}</ol>
            <p>"Start the server with "<code>{SERVE}</code>"; a client is configured with:"</p>
            // Focusable: at phone width the snippet scrolls sideways, and a keyboard must reach it.
            <pre class="snippet" data-testid="mcp-config" tabindex="0" role="region" aria-label="MCP client configuration"><code>{CLIENT_CONFIG}</code></pre>
        </div>
    }
}
