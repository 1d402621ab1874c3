"""attrition: turns daily combat-loss reports and articles into loss, delta and alert events."""

__version__ = "0.1.0"
