"""Guided walkthroughs (checklists) for managers: definitions in content/checklists/, run as botbuilder dialogs."""

from dialogs.definitions import WalkthroughCatalog, load_walkthroughs
from dialogs.feature import WalkthroughFeature
from dialogs.results import ResultStore

__all__ = ["ResultStore", "WalkthroughCatalog", "WalkthroughFeature", "load_walkthroughs"]
