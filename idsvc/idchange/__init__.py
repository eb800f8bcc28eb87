"""idsvc.idchange"""
