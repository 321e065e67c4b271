"""The conversation: routing a message, commands, cards, texts and languages."""
