"""idsvc.documents"""
