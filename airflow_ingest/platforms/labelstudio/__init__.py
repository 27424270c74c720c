"""Label Studio (HumanSignal): tasks that reference cloud objects by URL, registered exactly once."""
