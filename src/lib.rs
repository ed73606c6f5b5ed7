//! 气 (Qi): the embedding facade.
