from multiprocessing import Process
 
def foo(x): 
    print(x)
     
if __name__ == '__main__': 
    p = Process(name='demo', target=foo, args=(1,)) 
    # 设置为守护进程，默认为 False 
    p.daemon = True 
    # 启动子进程
    p.start() 
    # 输出子进程名称
    print(p.name) 
    # 输出子进程 id 
    print(p.pid) 
    # 判断子进程是否存活
    print(p.is_alive()) 
    # 终止子进程
    p.kill() 
    # 终止子进程
    p.terminate() 
    # 输出子进程退出码
    print(p.exitcode) 
    # 关闭 Process 对象，释放其占用的资源
    p.close()
