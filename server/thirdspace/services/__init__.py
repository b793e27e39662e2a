"""Services: the layer between the edges (HTTP, WebSocket, CLI) and the pure core.

Each service owns its own I/O (rooms and delivery, the store, the asset worker pool,
translation backends, cluster replication); none of them imports the web package."""
