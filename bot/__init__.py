"""pars-bot's composition root."""
