"""tessera.targets"""
