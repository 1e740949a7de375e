"""Local stand-ins, as real HTTP servers, for provider endpoints no mock serves."""
