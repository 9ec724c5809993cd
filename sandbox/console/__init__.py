"""The sandbox's web console: a small HTTP server on 127.0.0.1 (started by `skiff sandbox up`)
serving plain HTML/CSS/JS pages over the store, behind the sandbox's console token.

Modules: `access` (token, cookie, cross-site checks), `views` (read-only JSON for the pages),
`graph` (the DAG from the compiled closure), `values` (typed literals for display),
`actions` (relaunch, recover, terminate, gates, launch, cache), `server` (routes),
`process` (start and stop as a detached process beside the admin)."""
