"""Reflex state: view fields and thin handlers that call one service each."""
