"""Staff accounts: passwords, sign-in, and who manages whose account."""
