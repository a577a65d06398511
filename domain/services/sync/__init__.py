"""Facebook sync: Meta → metasync for a Page's details, contacts, conversations and messages."""
