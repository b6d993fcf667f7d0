"""Local stand-ins for external services (X, Bluesky, Mastodon), served over real HTTP on 127.0.0.1."""
