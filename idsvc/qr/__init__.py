"""Desktop QR verification sessions scanned from WeChat."""
