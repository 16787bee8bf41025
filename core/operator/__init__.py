"""placeholder during bring-up"""

def includeme(config):
    pass
