"""Tests that run the real web server, django-q2 clusters, dispatcher and follower as separate processes."""
