"""Keras model builders (small functions that return an uncompiled ``keras.Model``) and the kinds of model
(``models.kinds``)."""
