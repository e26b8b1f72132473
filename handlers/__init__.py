"""Everything Slack-facing: listeners, Block Kit layouts, the modal.

`handlers.registry.register` wires the listeners into a Bolt app. This package's own import
brings in nothing, so the scheduler can use `handlers.blocks` alone.
"""
