"""Background work: Dramatiq broker and actors, event buses, the scheduler."""
