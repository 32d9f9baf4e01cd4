"""tessera.pipelines"""
