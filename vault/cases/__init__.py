"""Cases: the offboarding case, its playbook steps, the access register, the gate and progress."""
