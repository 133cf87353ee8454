"""The generic saga engine: definitions, state in Postgres, and the walk forward and back."""
