"""Latent editing: semantic directions (`directions`) and operations on latents (`latent_ops`).

Submodules are imported explicitly (`from stylegan.editing.directions import ...`) so that importing one tool never
pulls in another's optional dependencies. Projection, the encoder, attribution and face alignment live in
`stylegan.inversion`.
"""
