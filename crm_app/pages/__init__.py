"""One module per route; each reads like an outline of the screen."""
