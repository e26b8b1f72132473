"""Everything Slack-facing, grouped by feature.

`registry.register` wires every listener into a Bolt app: the Slack plumbing of `slack/`, the
`/pars` router, then each feature (`activity/`, `cycle/`, `batch/`). A feature package imports
its listeners only inside its `register`, so that the scheduler can use a feature's
`messages` module (layouts and action IDs) without loading a listener.
"""
