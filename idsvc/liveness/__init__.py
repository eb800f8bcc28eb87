"""idsvc.liveness"""
