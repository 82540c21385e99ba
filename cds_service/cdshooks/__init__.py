"""CDS Hooks 2.0 wire models (requests, cards, feedback, discovery), request-body reading and service definitions.

May import: errors, settings, security.json_limits. Never the pipeline or the routes.
"""
