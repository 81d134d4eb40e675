"""Real-browser tests: the app on a live server, driven by Playwright and Debian's Chromium."""
