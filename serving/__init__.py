"""Serving GIST Answers to many users: the JSON API and nginx in front of several app replicas."""
