"""Feature: content owners see what goes unanswered and teach the bot (learned phrasings), without a developer."""
