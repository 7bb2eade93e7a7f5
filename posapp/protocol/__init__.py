"""The wire schema shared by the sync client and HQ; imports nothing else of ours."""
