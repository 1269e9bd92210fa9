"""The external directory (外部互联): its tree, its contacts, who may see and change them, and their audit trail."""
