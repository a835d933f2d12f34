"""Who is calling and what they may do: principals, API tokens, the authentication port."""
