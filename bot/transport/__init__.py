"""The Bot Connector protocol: the endpoint, authentication, the adapter seam, replies and the turn journal."""
