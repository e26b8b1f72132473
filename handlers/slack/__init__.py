"""Plumbing every feature uses: request context, middleware, errors, markup, arguments, files."""
