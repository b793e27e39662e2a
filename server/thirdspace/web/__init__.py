"""The aiohttp edge: HTTP routes and the WebSocket endpoint."""
