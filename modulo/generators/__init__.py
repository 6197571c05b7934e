"""Text generators, registered under the `modulo.generators` entry-point group."""
