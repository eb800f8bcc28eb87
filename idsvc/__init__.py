"""idsvc: WeChat-first identity and document service."""
